"""The producer container: synthetic OLTP, heart-rate producer and the S3 sink.

`python -m producer --help` lists the subcommands (seed-oltp, simulate-oltp, produce, sink).
"""
