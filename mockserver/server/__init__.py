"""The fake on a socket: uvicorn with read bounds and a drain, and LiveServer in a thread."""
