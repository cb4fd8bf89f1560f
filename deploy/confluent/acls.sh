#!/usr/bin/env bash
# Least-privilege ACLs on the Confluent Cloud cluster, for the two ways of sinking the topic plus the producer.
# Usage: PRODUCER_SA=sa-... SINK_SA=sa-... CONNECTOR_SA=sa-... TOPIC=heart-rate deploy/confluent/acls.sh
# (run `confluent kafka cluster use <cluster-id>` first; leave out the sink you do not run).
set -euo pipefail
TOPIC="${TOPIC:-heart-rate}"
acl() { confluent kafka acl create --allow "$@"; }

# Producer: writes the topic, idempotently.
acl --service-account "$PRODUCER_SA" --operations write,describe --topic "$TOPIC"
acl --service-account "$PRODUCER_SA" --operations idempotent-write --cluster-scope

# The project's sink container (`python -m producer sink`): reads the topic in its consumer group.
if [[ -n "${SINK_SA:-}" ]]; then
  acl --service-account "$SINK_SA" --operations read,describe --topic "$TOPIC"
  acl --service-account "$SINK_SA" --operations read --consumer-group "${HRS_SINK_GROUP:-hr-s3-sink}"
fi

# Confluent's fully managed S3 sink (s3-sink-fully-managed.json, kafka.auth.mode SERVICE_ACCOUNT): it reads
# the topic in its own consumer group `connect-lcc-<connector id>` and writes records it cannot convert to its
# dead-letter topic `dlq-lcc-<connector id>` (and success/error topics `success-lcc-`/`error-lcc-`).
if [[ -n "${CONNECTOR_SA:-}" ]]; then
  acl --service-account "$CONNECTOR_SA" --operations describe --cluster-scope
  acl --service-account "$CONNECTOR_SA" --operations read,describe --topic "$TOPIC"
  acl --service-account "$CONNECTOR_SA" --operations read --prefix --consumer-group connect-lcc
  acl --service-account "$CONNECTOR_SA" --operations create,write,describe --prefix --topic dlq-lcc
  acl --service-account "$CONNECTOR_SA" --operations create,write,describe --prefix --topic success-lcc
  acl --service-account "$CONNECTOR_SA" --operations create,write,describe --prefix --topic error-lcc
fi
