"""AnnotatedSliceDataset through a DataLoader with 0/4/8/16 workers, next to the ceiling.

The ceiling is a trivial dataset returning fresh tensors of the same shape and dtype
through identical ``DataLoader`` settings: what moving items between processes costs on
this machine. Meant for a machine with more cores than workers; the cases and options are
those of ``bench_dataset.py``, whose decoded-volume store (``--cache``) it fills first.

Run ``python benchmarks/bench_dataset_workers.py [--quick] [--workers 0 4 8 16]``.
"""

from __future__ import annotations

import os

from bench_dataset import arguments, measure_workers, prepare

from niprep.training.store import CACHE_ENV


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 4, 8, 16])
    args = parser.parse_args()
    os.environ[CACHE_ENV] = str(args.cache / "store")
    pairs, target = prepare(args)
    print(f"{os.cpu_count()} CPUs")
    measure_workers(pairs, target, args.workers, args.rounds)


if __name__ == "__main__":
    main()
