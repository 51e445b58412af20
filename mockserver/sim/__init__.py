"""The simulation: state and rules (backend, tasks, namespaces, outputs, journal, replay), no HTTP."""
