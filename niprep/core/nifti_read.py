"""Reading a NIfTI image's voxels, gzip inflated by ISA-L where that changes nothing.

nibabel inflates ``.nii.gz`` data with Python's ``gzip`` (zlib); ISA-L's inflate gives
the same bytes about three times faster. It is used only when nibabel would hand the
raw stored array back untouched (no scaling, Fortran order); every other image is read
through ``img.dataobj`` as usual.
"""

from __future__ import annotations

import numpy as np
from isal import igzip
from nibabel.arrayproxy import ArrayProxy
from nibabel.spatialimages import SpatialImage

_CHUNK = 1 << 22  # bytes inflated per read: small beside any volume worth timing


def _is_raw_gzip(image: SpatialImage) -> bool:
    proxy = image.dataobj
    filename = image.get_filename() or ""
    return (
        isinstance(proxy, ArrayProxy)
        and filename.endswith(".gz")
        and proxy.order == "F"
        and proxy.slope == 1.0
        and proxy.inter == 0.0
        and proxy.dtype.kind in "biuf"
    )


def read_voxels(image: SpatialImage) -> np.ndarray:
    """The voxels of ``image``, equal to ``np.asanyarray(image.dataobj)``, in native
    byte order.

    Args:
        image: a NIfTI image as ``nibabel.load`` returns it.

    Raises:
        ValueError: the file ends before the data its header declares.
    """
    if _is_raw_gzip(image):
        proxy = image.dataobj
        voxels = np.empty(proxy.shape, dtype=proxy.dtype, order="F")
        data = voxels.reshape(-1, order="F").view(np.uint8)
        got = 0
        with igzip.open(image.get_filename(), "rb") as stream:
            stream.seek(proxy.offset)
            # in chunks: one readinto of everything would inflate a second full copy first
            while got < data.size:
                step = stream.readinto(data[got : got + _CHUNK])
                if not step:
                    break
                got += step
        if got != voxels.nbytes:
            raise ValueError(
                f"the file ends after {got} of the {voxels.nbytes} data bytes its header declares"
            )
    else:
        voxels = np.asanyarray(image.dataobj)
    if not voxels.dtype.isnative:
        voxels = voxels.byteswap(inplace=True).view(voxels.dtype.newbyteorder("="))
    return voxels
