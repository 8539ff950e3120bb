"""Who may call the API (scoped keys) and who may sign in to the console (accounts, roles)."""
