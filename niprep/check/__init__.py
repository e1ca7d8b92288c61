"""The dataset check (``task=check``): every image/mask problem of a dataset, with pictures."""
