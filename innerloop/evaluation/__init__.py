"""What a trained meta-learner is measured by: meta-test accuracy, learned rates, feature probe."""
