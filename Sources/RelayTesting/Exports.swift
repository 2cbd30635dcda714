// The sink kit (SinkConformance, RecordingSink) comes with the relay's test kit, so a test that imports
// RelayTesting has both. A sink author who needs only the kit depends on the lighter SinkTesting product.
@_exported import SinkTesting
