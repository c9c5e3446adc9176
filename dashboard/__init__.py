"""The internal-affairs dashboard: review of alerts over the alert store, itself access-logged."""
