"""Monthly PDF/XLSX reports (报表): requested from the UI or the API, planned by cron, rendered by the workers."""
