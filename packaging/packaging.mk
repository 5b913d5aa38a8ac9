# packaging/packaging.mk - `make deb`.  Included at the end of the
# Makefile, so VERSION comes from there.

DEB_DIR		:= build/deb
DEB_TREE	:= $(DEB_DIR)/allowsync-$(VERSION)

.PHONY: deb

# Build the .deb from a copy of the sources with packaging/debian as
# debian/, so the work tree never holds debian/ build litter.  MAKEFLAGS is
# dropped so that this make's variables do not leak into debian/rules.
deb:
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	test "$$v" = "$(VERSION)" || { echo "packaging/debian/changelog" \
	    "is at $$v, Makefile at $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_TREE)
	tar -cf - --anchored --exclude=./.git --exclude=./build \
	    --exclude='./build-*' --exclude=./allowsync . | \
	    tar -xf - -C $(DEB_TREE)
	cp -R packaging/debian $(DEB_TREE)/debian
	cd $(DEB_TREE) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -us -uc -b
	mv $(DEB_DIR)/allowsync_$(VERSION)_*.deb build/
	rm -rf $(DEB_DIR)
	@ls build/allowsync_$(VERSION)_*.deb
