// The C API of libhiredis (Debian: libhiredis-dev), exposed as-is to Swift. Only
// Sources/RedisClient/RedisConnection.swift may import CHiredis: the rest of the code uses RedisConnection.
#ifndef RTMS_RELAY_CHIREDIS_SHIM_H
#define RTMS_RELAY_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
