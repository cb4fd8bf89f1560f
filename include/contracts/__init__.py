"""What every deployable shares: the mode and settings, paths, and the names and shapes of the data.

The Astro image, the producer image and the laptop tooling all import from
here, and nothing here imports anything else of the project: the event and
its JSON Schema, the lake layout, the raw tables (and the CDC slot and
publication), the serving marts, the OLTP connection. Each name has this one
home. Standard library only at import time.
"""
