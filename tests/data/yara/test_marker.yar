rule TRACEHOUND_Test_Marker {
   meta:
      description = "Test rule: marker string planted by the test tree generator"
   strings:
      $a = "tracehound test payload"
   condition:
      $a and filename != "" and filepath != ""
}
