"""Tables from definitions: the schema compiler, diffs, migrations and the platform's own tables."""
