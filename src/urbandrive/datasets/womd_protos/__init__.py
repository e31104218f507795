"""Waymo Open Motion Dataset files without TensorFlow or generated protobuf code.

`tfrecord` reads the framing (checking both CRC-32C checksums, `crc32c`), `wire` decodes the
protocol-buffer wire format, and `scenario` / `map` decode `Scenario` and `MapFeature` by the
field numbers of waymo-open-dataset's public `scenario.proto` and `map.proto` (Apache-2.0).
"""
