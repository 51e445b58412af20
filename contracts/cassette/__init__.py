"""The cassette format: exchanges with the API as JSON lines, read and checked, and written."""
