"""The HTTP interface: Litestar controllers over the application's use cases."""
