# Everything a fresh machine needs: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned to the CPU build that these machines keep on disk; an unpinned torch
# would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: venv demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[dev,dask]"
	touch $@

venv: $(BIN)/.installed

# the sample masks also become a YOLO dataset, drawn as their own images (no scans here)
demo: venv
	$(BIN)/niprep nii_folder=examples/sample_masks output_path=demo_output data_mode=box \
		save_stats=true preview=4
	$(BIN)/niprep task=export format=yolo image_folder=examples/sample_masks \
		nii_folder=examples/sample_masks output_path=demo_output/yolo window=percentile preview=4

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_check.py
	$(BIN)/python benchmarks/bench_export.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
