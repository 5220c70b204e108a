"""The event stream on NATS JetStream: subjects, messages, stream, relay, contract."""
