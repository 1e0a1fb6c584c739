"""feedbacklib."""
