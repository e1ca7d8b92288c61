"""What one case becomes: each task turns a case into the files it writes."""
