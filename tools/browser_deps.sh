#!/usr/bin/env sh
# `make browser-deps`: what the browser suite (tests/browser, `make test-browser`) needs on
# top of `make install`: Debian's Chromium, a CJK font (without one every Chinese character
# in a screenshot is a box), and Playwright for Python in .venv (the `browser` extra; it
# drives /usr/bin/chromium and never downloads a browser of its own).
set -eu
BIN=${BIN:-.venv/bin}
missing=""
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing="chromium"
if command -v fc-list >/dev/null 2>&1; then
  [ -n "$(fc-list :lang=zh family 2>/dev/null | head -n 1)" ] || missing="$missing fonts-noto-cjk"
else
  ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || missing="$missing fonts-noto-cjk"
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "· 安装浏览器测试所需的系统包 / installing:$missing"
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  else
    echo "✗ 浏览器测试需要这些系统包：$missing"
    echo "  请运行 / please run:  sudo apt-get install -y$missing  （然后重新运行 make browser-deps）"
    echo "  Debian/Ubuntu only; elsewhere install Chromium and a CJK font (Noto Sans CJK), then set"
    echo "  CHROMIUM=/path/to/chromium for make test-browser."
    exit 1
  fi
fi
if ! "$BIN/python" -c "import playwright, xdist" 2>/dev/null; then
  echo "· 安装 Playwright（Python）/ installing Playwright for Python (the browser extra)"
  if command -v uv >/dev/null 2>&1 || [ -x "$BIN/uv" ]; then
    uv=$(command -v uv || echo "$BIN/uv")
    "$uv" pip install -q --python "$BIN/python" -e '.[browser]' -c constraints.txt
  else
    "$BIN/python" -m pip install -q -e '.[browser]' -c constraints.txt
  fi
fi
echo "✓ 浏览器测试环境就绪 / browser test dependencies ready ($(chromium --version 2>/dev/null || echo /usr/bin/chromium))"
