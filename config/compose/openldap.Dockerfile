# The compose stack's OpenLDAP: Debian's slapd 2.5 (the version the tests run against), with the argon2,
# memberof and ppolicy modules the demo directory needs. Runs as the `openldap` user on port 1389.
# Build context: the repository root (see docker-compose.yml).

FROM debian:bookworm-slim
RUN echo "slapd slapd/no_configuration boolean true" | debconf-set-selections \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/ldap-data /etc/danang-sso-ldap /seed \
    && chown openldap:openldap /var/lib/ldap-data
COPY config/compose/slapd-config.ldif /etc/danang-sso-ldap/slapd-config.ldif
COPY config/compose/slapd-start.sh /usr/local/bin/slapd-start.sh
COPY config/compose/seed-ldap.sh /usr/local/bin/seed-ldap.sh
COPY config/demo-directory.ldif /seed/demo-directory.ldif
USER openldap
VOLUME ["/var/lib/ldap-data"]
EXPOSE 1389
HEALTHCHECK --interval=5s --timeout=3s --retries=20 \
    CMD ["ldapsearch", "-x", "-H", "ldap://127.0.0.1:1389", "-b", "", "-s", "base", "(objectClass=*)", "namingContexts"]
ENTRYPOINT ["/usr/local/bin/slapd-start.sh"]
