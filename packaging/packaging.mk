# packaging/packaging.mk - the parts of `make install` beyond the binary and
# the config, and `make deb`.  Included at the end of the Makefile, so
# PREFIX, SBINDIR, SYSCONFDIR, MANDIR, DOCDIR, DESTDIR and VERSION come from
# there.  Every path below is under $(DESTDIR); files in $(SYSCONFDIR) are
# installed only when absent and removed only when unchanged.

UNITDIR		?= $(PREFIX)/lib/systemd/system
CRONDIR		?= $(SYSCONFDIR)/cron.d

UNITS		:= units/allowsync.service units/allowsync.timer \
		   units/allowsync-restore.service
DOCS		:= README.md docs/nftables.md docs/operations.md docs/fleet.md
CRON		:= packaging/cron.d/allowsync
CONF		:= packaging/allowsync.conf

# The units and the cron file name /usr/sbin/allowsync; point them at
# $(SBINDIR) so that any PREFIX works.
SBIN_SED	:= sed 's|/usr/sbin/allowsync|$(SBINDIR)/allowsync|g'

DEB_DIR		:= build/deb
DEB_TREE	:= $(DEB_DIR)/allowsync-$(VERSION)

.PHONY: install-extra uninstall-extra deb

install: install-extra
uninstall: uninstall-extra

install-extra:
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 docs/allowsync.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/allowsync.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
	    $(SBIN_SED) $$u > $(DESTDIR)$(UNITDIR)/$${u#units/} && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#units/} || exit 1; \
	done
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(CRONDIR)
	test -e $(DESTDIR)$(CRONDIR)/allowsync || { \
	    $(SBIN_SED) $(CRON) > $(DESTDIR)$(CRONDIR)/allowsync && \
	    chmod 0644 $(DESTDIR)$(CRONDIR)/allowsync; }

uninstall-extra:
	rm -f $(DESTDIR)$(MANDIR)/man5/allowsync.conf.5
	rm -f $(DESTDIR)$(MANDIR)/man8/allowsync.8
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$${u#units/}; done
	for d in $(DOCS); do rm -f $(DESTDIR)$(DOCDIR)/$${d##*/}; done
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	if $(SBIN_SED) $(CRON) | cmp -s - $(DESTDIR)$(CRONDIR)/allowsync; \
	then rm -f $(DESTDIR)$(CRONDIR)/allowsync; fi
	if cmp -s $(CONF) $(DESTDIR)$(SYSCONFDIR)/allowsync/allowsync.conf; \
	then rm -f $(DESTDIR)$(SYSCONFDIR)/allowsync/allowsync.conf; fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/allowsync 2>/dev/null

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
