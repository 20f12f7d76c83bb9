"""Who acts: users, departments, roles held, sessions, passwords and the audit log."""
