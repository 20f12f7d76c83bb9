"""The plugin host: hooks, plugins, events, actions, settings and the database engine."""
