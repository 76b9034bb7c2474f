# Wire format of one message on a Sluice data channel between processes: a frame
# header plus a record batch, an in-band control event or a flow-control credit grant.
# Decoded (and validated) only by runtime/transport/batch_codec.cc.

@0x92a399bd4d9fb140;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("sluice::transport::wire");

struct StreamMessage {
  header @0 :Header;

  body :union {
    batch @1 :Batch;
    watermark @2 :Watermark;
    checkpointBarrier @3 :CheckpointBarrier;
    endOfStream @4 :Void;
    credit @5 :Credit;
    # Flow control: the receiver grants the sender more messages on a channel.
  }
}

struct Header {
  version @0 :UInt16;
  # Wire format version; a receiver rejects versions it does not speak.
  jobAttempt @1 :UInt32;
  # The job attempt the sender belongs to; messages of an old attempt are stale.
  channelId @2 :UInt32;
  sequence @3 :UInt64;
  jobKey @4 :UInt64;
  # Identifies the job (a hash of its id) so channels of several jobs share a connection.
  # Position of the message on its channel, starting at 0.
}

enum ColumnType {
  bool @0;
  int64 @1;
  uint64 @2;
  float64 @3;
  string @4;
  timestamp @5;
  # Epoch milliseconds stored as Int64.
}

struct Field {
  name @0 :Text;
  type @1 :ColumnType;
}

struct Column {
  # The values of one field, laid out exactly like sluice::Column so that a
  # receiver can point at them instead of copying.
  type @0 :ColumnType;
  nullCount @1 :UInt64;
  validity @2 :Data;
  # LSB-first bitmap, 1 = present; empty when nullCount is 0.

  values :union {
    int64s @3 :List(Int64);
    # int64 and timestamp columns.
    uint64s @4 :List(UInt64);
    float64s @5 :List(Float64);
    bools @6 :List(Bool);
    strings :group {
      offsets @7 :List(UInt32);
      # numRows + 1 offsets into data, starting at 0.
      data @8 :Data;
    }
  }
}

struct Batch {
  fields @0 :List(Field);
  # The schema, carried in every batch so that a message is self-describing.
  numRows @1 :UInt64;
  eventTimeIndex @2 :Int32 = -1;
  # Index of the event-time field, or -1 when the stream has none.
  columns @3 :List(Column);
  # One per field, in field order.
}

struct Watermark {
  timestamp @0 :Int64;
}

struct CheckpointBarrier {
  checkpointId @0 :Int64;
  timestamp @1 :Int64;
  unaligned @2 :Bool;
  # Reserved for unaligned checkpoints; this version only sends and accepts false.
}

struct Credit {
  channelId @0 :UInt32;
  credits @1 :UInt32;
}
