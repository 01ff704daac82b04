a
  {{- .DiskIndex}}
  b