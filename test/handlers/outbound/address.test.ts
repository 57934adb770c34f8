import { expect } from "chai";
import {
  classifyAddress,
  resolvePublicAddress,
  systemResolver,
} from "../../../handlers/outbound/address";

describe("outbound address guard", () => {
  const cases: Array<[string, string | undefined]> = [
    ["93.184.216.34", undefined],
    ["2606:2800:220:1:248:1893:25c8:1946", undefined],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["172.32.0.1", undefined],
    ["192.168.0.1", "private"],
    ["100.64.0.1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["fd12:3456::1", "private"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["2002:a00:1::", "private"],
    ["255.255.255.255", "reserved"],
  ];
  for (const [address, cls] of cases)
    it(`${address} is ${cls ?? "public"}`, () => {
      expect(classifyAddress(address)).to.equal(cls);
    });

  it("allows loopback only where the local run asks, and never private or metadata addresses", async () => {
    const to = (address: string) => async () => [{ address, family: 4 as const }];
    expect(await resolvePublicAddress("sub.test", to("127.0.0.1"), true)).to.deep.equal({
      address: "127.0.0.1",
      family: 4,
    });
    await resolvePublicAddress("sub.test", to("127.0.0.1")).then(
      () => expect.fail("resolved"),
      (e) =>
        expect(e.message).to.equal(
          "sub.test resolves to 127.0.0.1, a loopback address: deliveries go to public addresses only",
        ),
    );
    for (const a of ["10.0.0.1", "169.254.169.254"])
      await resolvePublicAddress("sub.test", to(a), true).then(
        () => expect.fail("resolved"),
        (e) => expect(e.name).to.equal("BlockedAddressError"),
      );
  });

  it("resolves with the system's resolver at delivery time when none is injected", async () => {
    await resolvePublicAddress("localhost", systemResolver).then(
      () => expect.fail("resolved"),
      (e) => expect(e.addressClass).to.equal("loopback"),
    );
  });
});
