"""The computation on one volume: reading, the extents and components kernels, the
annotations table, the pictures, and the MONAI transforms that chain them."""
