# Sourced: `install_debian PACKAGE...` installs Debian packages with apt-get when this runs as
# root on a machine that has it (refreshing the package lists once if the first try fails);
# otherwise it says what to install and returns non-zero.
install_debian() {
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing $* (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
  else
    echo "missing: install $* (Debian packages)" >&2
    return 1
  fi
}
