"""Groups, stores, users and roles, and the tenant scope every store-data query goes through."""
