// The per-address connection cap (host/net/connection_cap.h): what counts as
// one address. Issue 11: an IPv6 client holds a whole /64, so counting per
// /128 let one client open unlimited connections by varying its low bits.
#include "host/net/connection_cap.h"

#include <doctest/doctest.h>

#include <string>

using quayd::ConnectionCap;

TEST_CASE("connection cap: IPv6 peers in one /64 share one count") {
  ConnectionCap cap(2, {});
  CHECK(cap.TryAdd("2001:db8:1:2::1"));
  CHECK(cap.TryAdd("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
  // A third address of the same /64 is over the cap...
  CHECK_FALSE(cap.TryAdd("2001:db8:1:2:ffff::9"));
  CHECK(cap.count("2001:db8:1:2::77") == 2);
  // ...a neighbouring /64 is not.
  CHECK(cap.TryAdd("2001:db8:1:3::1"));
  CHECK(cap.count("2001:db8:1:3::1") == 1);
  // Releasing by any member address gives the block's slot back.
  cap.Remove("2001:db8:1:2::1");
  CHECK(cap.TryAdd("2001:db8:1:2::1234"));
  CHECK_FALSE(cap.TryAdd("2001:db8:1:2::1235"));
}

TEST_CASE("connection cap: IPv4 peers count per address, mapped or not") {
  ConnectionCap cap(1, {});
  CHECK(cap.TryAdd("192.0.2.1"));
  // A dual-stack listener reports the same peer IPv4-mapped: the same count.
  CHECK_FALSE(cap.TryAdd("::ffff:192.0.2.1"));
  CHECK(cap.TryAdd("192.0.2.2"));
  cap.Remove("::ffff:192.0.2.1");
  CHECK(cap.count("192.0.2.1") == 0);
  CHECK(cap.TryAdd("192.0.2.1"));
}

TEST_CASE("connection cap: exempt proxies and an unlimited cap count nothing") {
  ConnectionCap cap(1, {"2001:db8::10", "127.0.0.1"});
  for (int i = 0; i < 5; ++i) CHECK(cap.TryAdd("2001:db8::10"));
  for (int i = 0; i < 5; ++i) CHECK(cap.TryAdd("127.0.0.1"));
  // Exemption is for the proxy's own address, not its /64.
  CHECK(cap.TryAdd("2001:db8::11"));
  CHECK_FALSE(cap.TryAdd("2001:db8::12"));

  ConnectionCap unlimited(0, {});
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.TryAdd("2001:db8::1"));
  CHECK(unlimited.count("2001:db8::1") == 0);
}

TEST_CASE("connection cap: a peer that is no numeric address counts by its text") {
  ConnectionCap cap(1, {});
  CHECK(cap.TryAdd("fe80::1%eth0"));
  CHECK_FALSE(cap.TryAdd("fe80::1%eth0"));
  CHECK(cap.TryAdd("unix"));
}
