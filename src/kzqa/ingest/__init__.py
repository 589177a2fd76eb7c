"""Reading documents: files and their metadata, PDF and web-page extraction, passages,
downloads by address, the source catalogue."""
