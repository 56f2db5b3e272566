// The fraud domain library: built in issue 5 (streaming fraud scoring).
