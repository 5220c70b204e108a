"""Main-text extraction from fetched pages (adapters of application.ports.Extractor)."""
