"""arq worker: job functions are thin adapters that call crm/."""
