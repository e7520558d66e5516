"""Major complaints (重大投诉): marking, immediate alerts, the 24-hour report and the escalation ladder."""
