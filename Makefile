# The README's two commands. Both create .venv and install first (again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: run test test-generic install docs clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/flatminima validate --suite paper --out results/paper

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

# The kernel-against-reference tests as on another host: numpy without its SIMD dispatch above the
# build baseline, numba compiling for a generic CPU (the exactness contract must not depend on the host).
test-generic: $(STAMP)
	NPY_DISABLE_CPU_FEATURES="$$($(VENV)/bin/python .ci/cpu_features.py)" NUMBA_CPU_NAME=generic \
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/numerics/test_kernels.py \
	tests/numerics/test_kernels_psd.py tests/numerics/test_mlp_kernel.py tests/numerics/test_kernels_optimizers.py

# The documentation site (Sphinx; docs/conf.py says why). Warnings are errors; output in docs/_build/html.
$(DOCS_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info docs/_build
