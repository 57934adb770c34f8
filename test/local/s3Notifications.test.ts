import { expect } from "chai";
import { objectCreatedEvent, s3EventKey } from "../../local/s3Notifications";
import { decodeKey } from "../../handlers/records/s3Ingestion";

describe("local: the S3 event a bucket notification sends", () => {
  it("writes the key URL-encoded as S3 does: '+' for a space, %40 for '@', '/' kept", () => {
    expect(s3EventKey("a@b")).to.equal("a%40b");
    expect(s3EventKey("incoming/red flower.json")).to.equal("incoming/red+flower.json");
    expect(s3EventKey("incoming/2026/12/06/x.json")).to.equal("incoming/2026/12/06/x.json");
    expect(s3EventKey("a+b=c&d.json")).to.equal("a%2Bb%3Dc%26d.json");
    expect(s3EventKey("café.json")).to.equal("caf%C3%A9.json");
    expect(s3EventKey("x (1)!*'~.json")).to.equal("x+%281%29%21%2A%27~.json");
  });

  it("gives the ingestion handler back the key as stored, whatever it holds", () => {
    for (const key of [
      "incoming/red flower.json",
      "a+b.json",
      "100% done.json",
      "x/y/z (1).json",
      "ünïcødé/日本.json",
      "plus+ and space .json",
    ])
      expect(decodeKey(s3EventKey(key)), key).to.equal(key);
  });

  it("is one ObjectCreated:Put record of event version 2.1 with the notification's id", () => {
    const event = objectCreatedEvent({
      region: "eu-west-1",
      bucket: "b",
      key: "in/a b.json",
      size: 3,
      eTag: "abc",
      configurationId: "ingest-records",
      sequencer: "0A",
      eventTime: new Date("2026-12-06T00:00:00Z"),
    });
    expect(event).to.deep.equal({
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          awsRegion: "eu-west-1",
          eventTime: "2026-12-06T00:00:00.000Z",
          eventName: "ObjectCreated:Put",
          s3: {
            s3SchemaVersion: "1.0",
            configurationId: "ingest-records",
            bucket: { name: "b", arn: "arn:aws:s3:::b" },
            object: { key: "in/a+b.json", size: 3, eTag: "abc", sequencer: "0A" },
          },
        },
      ],
    });
  });
});
