"""Model management: the registered and trained image encoders, fine-tuning on the user's
catalog in a background process, comparison, and activation without downtime."""
