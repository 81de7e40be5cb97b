dnl libtool -version-info current:revision:age, kept in this one place.
dnl Rules, for each release that changes the library:
dnl  - code changed, interface not: revision += 1
dnl  - interfaces added: current += 1, revision = 0, age += 1
dnl  - interfaces removed or changed: current += 1, revision = 0, age = 0
m4_define([cashback_lt_version], [1:0:0])
