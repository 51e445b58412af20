"""The testing surface: QolabaMock, verdicts on a client, in-process transports."""
