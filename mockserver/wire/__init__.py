"""The API's wire format: the envelope, request validation, auth, and the output images."""
