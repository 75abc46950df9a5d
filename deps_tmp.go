package main
import (
 _ "github.com/bwmarrin/discordgo"
 _ "modernc.org/sqlite"
 _ "github.com/robfig/cron/v3"
 _ "github.com/disintegration/imaging"
 _ "golang.org/x/time/rate"
 _ "github.com/pressly/goose/v3"
 _ "github.com/gen2brain/webp"
 _ "github.com/google/btree"
 _ "github.com/gorilla/websocket"
 _ "github.com/google/uuid"
)
func main(){}
