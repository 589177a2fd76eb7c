"""The index on disk: its format, the checks on load, the folder's own files, the writer
lock, the journal, where things live."""
