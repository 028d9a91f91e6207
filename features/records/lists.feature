Feature: Lists
  A list is a record whose data is a JSON array of record names; every
  change is a whole update. Entry events fire for local and remote changes.

  Background:
    Given the test server is ready
    And the client is initialised
    And the server sends the message C|A+
    And the client logs in with username "XXX" and password "YYY"
    And the server sends the message A|A+
    And the client gets the list "users"
    And the server sends the message R|A|S|users+
    And the server sends the message R|R|users|1|["u/1","u/2"]+

  Scenario: Read, add, insert and remove entries
    Then the client list "users" has the entries ["u/1","u/2"]
    And the client list "users" is not empty
    When the client adds the entry "u/3" to the list "users"
    Then the last message the server recieved is R|U|users|2|["u/1","u/2","u/3"]+
    And the client is told the entry "u/3" was added to the list "users" at index 2
    When the client adds the entry "u/0" to the list "users" at index 0
    Then the last message the server recieved is R|U|users|3|["u/0","u/1","u/2","u/3"]+
    When the client removes the entry "u/2" from the list "users"
    And some time passes
    Then the last message the server recieved is R|U|users|4|["u/0","u/1","u/3"]+
    And the client is told the entry "u/2" was removed from the list "users" at index 2

  Scenario: Remote changes raise entry events
    When the server sends the message R|U|users|2|["u/2","u/9"]+
    Then the client is told the entry "u/1" was removed from the list "users" at index 0
    And the client is told the entry "u/9" was added to the list "users" at index 1
    And the client is told the entry "u/2" was moved in the list "users" at index 0

  Scenario: Set all entries
    When the client sets the entries of the list "users" to []
    Then the last message the server recieved is R|U|users|2|[]+
    And the client list "users" is empty
