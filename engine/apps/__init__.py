"""Installed apps: packages, the versioned metadata store and the compiled runtime."""
