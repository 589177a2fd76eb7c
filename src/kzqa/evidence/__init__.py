"""What researchers keep: answers rendered as text and Markdown, collections, exports and their verification."""
