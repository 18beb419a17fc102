"""The Mesa world of gridledger: the driver model, station areas, agent kinds and grid."""
